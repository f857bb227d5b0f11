"""cgihttpd: a CGI/1.1 web server configured with Apache httpd 2.4 files."""

__version__ = "0.1.0"
SERVER_SOFTWARE_NAME = "cgihttpd"

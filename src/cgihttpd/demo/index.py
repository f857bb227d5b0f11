#!/usr/bin/env python3
# The smallest CGI script: print the headers, an empty line, then the body.
# The server adds the status line ("200 OK") and sends the rest as printed.
print("Content-Type: text/html")        # headers, at least Content-Type
print()                                 # an empty line separates the body
print("<h1>Hello, CGI</h1>", end="")    # the body

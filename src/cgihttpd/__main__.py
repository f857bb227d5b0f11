from cgihttpd.cli import console_main

console_main()

"""The command line: parses options, calls one core function, hands the result to the printer."""

"""Pure views: data and a translator in, text and keyboard out. No I/O, all user text escaped."""

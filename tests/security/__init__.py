"""Security tests: headers, uploads, XML, sandbox, fuzzing and case scoping."""

"""The test suite (a package, so that `tests` here wins over any `tests` package installed in
site-packages: molsets ships one)."""

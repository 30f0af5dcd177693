"""Use cases: load, decide, save, commit, publish. One verb-named function each."""

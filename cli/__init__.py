"""The alpr command line: a third adapter over pipelines/."""

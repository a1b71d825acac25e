"""Data quality: the Great Expectations suites of ``expectations/`` run on each written batch
(``validate``), the flags of rows that failed a row-level expectation, Data Docs, and the
per-camera health figures (``camera_health``)."""

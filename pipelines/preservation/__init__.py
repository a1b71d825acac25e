"""Preservation to evidence (PP-9126 C.4.c, C.5): holds, Object Lock copies, chain of custody."""

"""Training of the recognition models, apart from what runs in production
(``pipelines/recognition/``): synthetic plates and scenes (``synth``), datasets from them and the
shared photographs (``dataset``), and the detector's training and export (``train``)."""

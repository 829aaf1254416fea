"""Qt-free, torch-free core: spaces, strategies, storage, the study loop."""

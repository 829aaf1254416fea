"""The live page: learning curves, optimization history, trials table and trial details."""

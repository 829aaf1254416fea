"""The study setup page: search space, strategy, data and model, validated as the user types.

Import the widgets from their modules (``setup_page.SetupPage``, ``space_editor.SpaceEditor``, …);
nothing here imports torch.
"""

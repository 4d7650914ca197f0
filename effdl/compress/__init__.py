"""effdl.compress — see DESIGN.md."""

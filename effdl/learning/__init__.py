"""effdl.learning — see DESIGN.md."""

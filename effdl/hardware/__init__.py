"""effdl.hardware — see DESIGN.md."""

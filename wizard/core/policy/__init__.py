"""Key policies as data: build, lint, simulate, diff and render."""

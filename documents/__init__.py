"""What the project writes for people and for later runs: durable JSON lines and self-contained HTML pages."""

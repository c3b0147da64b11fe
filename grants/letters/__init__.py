"""Decision letters: context building, rendering, storage, verification."""

"""The game loop: one state object and the rules of a turn, driven by matches, the Gymnasium
env, the terminal session and record generation."""

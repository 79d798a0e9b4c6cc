"""What people see: the board drawing, the terminal session, the Gymnasium environments."""

"""Client and case forms arrive with the clients issue."""

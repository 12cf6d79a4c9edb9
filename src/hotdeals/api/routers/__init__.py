"""One router per resource; each route parses, calls one service inside one transaction, returns."""

"""Routes of each capability. Every module here has ``router`` (a FastAPI ``APIRouter``) and may
have ``NAV``, a list of ``(message id, path)`` for the top navigation; ``create_app`` includes them
all."""

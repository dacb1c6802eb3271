"""Sandbox source systems: a deterministic world served over the CRM, marketing and ERP API shapes.

See README.md in this folder for the API details, the truth manifest schema and the choices made.
"""

from .process import SandboxProcess, SandboxThread
from .world import World

__all__ = ["SandboxProcess", "SandboxThread", "World"]

"""wip"""
from ...kern.sysent import Sysent
SYSENTS: list[Sysent] = []

"""What the command line asks of the team's store, answered here or by a team server."""

from assay.client.remote import Remote, connect
from assay.client.team import LocalTeam, Team
from assay.remote import Credential, forget, load, save

__all__ = ["Credential", "LocalTeam", "Remote", "Team", "connect", "forget", "load", "save"]

"""Controller tests import the collection's plugins by their real names
(ansible_collections.djstack.stack.plugins...), through the working tree's link."""

from __future__ import annotations

import sys

from tools.collection import COLLECTIONS, link

link()
if str(COLLECTIONS) not in sys.path:
    sys.path.insert(0, str(COLLECTIONS))

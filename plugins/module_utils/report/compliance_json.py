# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The JSON file of a compliance results document (``policy/compliance.py``): the
document itself, keys sorted, one result per line, so that two runs diff line by line.
Its shape (``schema_version`` 1) is described in docs/compliance.md."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json


def compliance_json(document):
    """The JSON text of ``document``: keys sorted, one result per line, ending with a
    newline."""
    # ASCII: a host name with an undecodable byte (a lone surrogate) stays writable.
    text = json.dumps(document, sort_keys=True, ensure_ascii=True, separators=(',', ':'), default=str)
    # Every result starts with its first key, "evidence"; inside a JSON string a quote is
    # always escaped, so this marks the boundaries between results and nothing else.
    return text.replace('},{"evidence":', '},\n{"evidence":').replace('"results":[{"evidence":', '"results":[\n{"evidence":') + '\n'

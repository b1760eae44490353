# -*- coding: utf-8 -*-
# Copyright: virtumancer.hostcaps contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``compliance_report`` filter; the writers live in ``module_utils/report/``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.virtumancer.hostcaps.plugins.module_utils.facts.plain import describe, plain_arguments
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_html import compliance_html
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_json import compliance_json
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.compliance_text import compliance_table
from ansible_collections.virtumancer.hostcaps.plugins.module_utils.report.junit import junit_xml

WRITERS = {'junit': junit_xml, 'html': compliance_html, 'json': compliance_json, 'table': compliance_table}


@plain_arguments(AnsibleFilterError)
def compliance_report(results, format='json'):
    if format not in WRITERS:
        raise AnsibleFilterError('compliance_report: format %s is not one of %s' % (describe(format), ', '.join(sorted(WRITERS))))
    if not isinstance(results, Mapping) or not isinstance(results.get('results'), list) or 'rules' not in results:
        raise AnsibleFilterError('compliance_report: expected the results of virtumancer.hostcaps.compliance_evaluate, got %s'
                                 % describe(results))
    try:
        return WRITERS[format](results)
    except ImportError as exc:
        raise AnsibleFilterError('compliance_report: %s' % exc)
    except (KeyError, TypeError, ValueError) as exc:
        raise AnsibleFilterError('compliance_report: the results are not what compliance_evaluate returns (%s: %s); '
                                 'pass them unchanged' % (type(exc).__name__, exc))


class FilterModule(object):

    def filters(self):
        return {'compliance_report': compliance_report}

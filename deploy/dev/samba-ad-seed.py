#!/usr/bin/python3
"""The demo directory in a freshly provisioned Samba AD domain, written offline into sam.ldb.

Called by deploy/dev/samba-ad.sh with the domain's smb.conf, before samba starts. The same
people and groups as deploy/ldap/demo.ldif (passwords: deploy/ldap/passwords): users under
CN=Users named by their sAMAccountName, displayName and mail set, dave disabled through
userAccountControl's ACCOUNTDISABLE bit; groups staff (alice, finance, it), admins (alice),
partners (bob), finance (carol), it (erin, dave); the gateway's service account pforte. The
domain's password rules are relaxed (no complexity, no minimum length or age, no history) so the
demo passwords and the tests' new ones are accepted.
"""
import sys

import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB

PEOPLE = [  # username, given name, surname, mail
    ("alice", "Alice", "Liddell", "alice@example.org"),
    ("bob", "Bob", "Builder", "bob@partner.example.net"),
    ("carol", "Carol", "Danvers", "carol@example.org"),
    ("dave", "Dave", "Lister", "dave@example.org"),
    ("erin", "Erin", "Brockovich", "erin@example.org"),
]
GROUPS = [  # inner groups first, so that they exist when an outer one lists them
    ("finance", ["carol"]),
    ("it", ["erin", "dave"]),
    ("staff", ["alice", "finance", "it"]),
    ("admins", ["alice"]),
    ("partners", ["bob"]),
]


def main(smb_conf, passwords_file):
    lp = LoadParm()
    lp.load(smb_conf)
    samdb = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
    passwords = {}
    with open(passwords_file, encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                dn, password = line.split(" ", 1)
                passwords[dn.split(",")[0].split("=")[1]] = password.strip()

    rules = ldb.Message(ldb.Dn(samdb, samdb.domain_dn()))
    for name in ("pwdProperties", "minPwdLength", "pwdHistoryLength", "minPwdAge", "maxPwdAge"):
        rules[name] = ldb.MessageElement("0", ldb.FLAG_MOD_REPLACE, name)
    samdb.modify(rules)

    samdb.newuser("pforte", passwords["pforte"], useusernameascn=True,
                  description="Pforte's service account: searches people and groups")
    for username, given, surname, mail in PEOPLE:
        samdb.newuser(username, passwords[username], useusernameascn=True,
                      givenname=given, surname=surname, mailaddress=mail)
    for group, members in GROUPS:
        samdb.newgroup(group)
        samdb.add_remove_group_members(group, members, add_members_operation=True)
    samdb.disable_account("(sAMAccountName=dave)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

"""What mail gateways send and what they must be told, without any I/O.

eas            Exchange ActiveSync request URIs (plain and base64 query forms)
imap_id        the IMAP ID argument list Dovecot passes as `%{client_id}`
postfix_policy the Postfix SMTP access policy delegation line protocol
rules          gateway rules from settings: unknown identities, exemptions, logins
answer         a decision turned into a gateway answer (allow, deny, dry run, message)
masking        identities masked for the decision log
"""

"""Messages out of doorstep: buyer texts and e-mails, merchant webhooks, and their wording."""

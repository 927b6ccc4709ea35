"""Telling the team: webhooks (Slack, Teams, anything that takes JSON), e-mail, and the live
banner of the open web app. :class:`~crisisdesk.notify.dispatcher.Notifier` sends in the
background so that ingestion never waits for a slow or dead receiver."""

"""Schedules: what runs when and to whom (store), the claim of each period (cron), the run's job (kinds),
what a report schedule sends (reporting, deliver) and the delivery log (runs). See docs/schedules.md."""

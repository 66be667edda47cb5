"""AppTest harness: the follow-up form (pages/followup_form.py) on its own, for the user in sk_user."""

from pages.followup_form import followup_form

followup_form()

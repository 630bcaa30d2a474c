"""Forms shared by the operator console and the customer portal."""

from django import forms
from django.utils.translation import gettext_lazy as _

from core.phones import phone_checked
from requests_app.models import ServiceRequest

Category = ServiceRequest.Category
PLANNED_CATEGORIES = [
    (c.value, c.label)
    for c in (Category.INSTALLATION, Category.RELOCATION, Category.REPAIR, Category.MAINTENANCE)
]
# How long a visit of each kind usually takes, in minutes: what a window must have room for.
CATEGORY_MINUTES = {
    Category.INSTALLATION: 90,
    Category.RELOCATION: 90,
    Category.REPAIR: 60,
    Category.MAINTENANCE: 60,
}


class PlannedRequestForm(forms.Form):
    """What the customer needs; the window is picked from the offers (intake/windows.py)."""

    category = forms.ChoiceField(label=_("What do you need?"), choices=PLANNED_CATEGORIES)
    description = forms.CharField(
        label=_("Details"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @property
    def minutes(self) -> int:
        return CATEGORY_MINUTES.get(self.cleaned_data.get("category"), 60)


class PortalRequestForm(PlannedRequestForm):
    """A customer without an account: who they are, and where the technician must go."""

    name = forms.CharField(label=_("Your name"), max_length=200)
    phone = forms.CharField(label=_("Mobile phone"), max_length=32)
    email = forms.EmailField(label=_("E-mail"), required=False)
    account_number = forms.CharField(label=_("Account number"), max_length=40, required=False)
    address = forms.CharField(label=_("Address"), max_length=300)
    lat = forms.FloatField(min_value=-90, max_value=90, required=False, widget=forms.HiddenInput)
    lon = forms.FloatField(min_value=-180, max_value=180, required=False, widget=forms.HiddenInput)
    field_order = ["name", "phone", "email", "account_number", "address", "category", "description"]

    def __init__(self, *args, region: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.region = region  # the tenant's: how its customers write their numbers

    def clean_phone(self):
        return phone_checked(self.cleaned_data["phone"], region=self.region)


class NewCustomerForm(forms.Form):
    """A caller the console does not know yet."""

    name = forms.CharField(label=_("Name"), max_length=200)
    address = forms.CharField(label=_("Address"), max_length=300)
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90)
    lon = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180)
    account_number = forms.CharField(label=_("Account number"), max_length=40, required=False)

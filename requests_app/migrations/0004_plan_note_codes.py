"""Planning notes become reason codes (screens translate them): convert the English sentences
earlier versions stored."""

from django.db import migrations

SENTENCES = {
    "no technician on shift has the skills": "skills",
    "pinned to a technician who is not working": "pinned_vehicle_unavailable",
    "no qualified technician can reach it within its window": "unreachable",
    "no room left in the day within its window": "no_capacity",
}


def to_codes(apps, schema_editor):
    ServiceRequest = apps.get_model("requests_app", "ServiceRequest")
    for sentence, code in SENTENCES.items():
        ServiceRequest.objects.filter(plan_note=sentence).update(plan_note=code)


def to_sentences(apps, schema_editor):
    ServiceRequest = apps.get_model("requests_app", "ServiceRequest")
    for sentence, code in SENTENCES.items():
        ServiceRequest.objects.filter(plan_note=code).update(plan_note=sentence)


class Migration(migrations.Migration):
    dependencies = [("requests_app", "0003_intake")]

    operations = [migrations.RunPython(to_codes, to_sentences)]

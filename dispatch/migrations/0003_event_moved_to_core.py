# The event log moved to the core app (core.0001_initial): the table stays, only Django's state
# moves.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('dispatch', '0002_initial'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='Event')],
            database_operations=[],
        ),
    ]

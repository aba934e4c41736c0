"""Library scans went to the stash app and bundles to the bundles app; their tables stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('recognition', '0003_bundles'),
        ('stash', '0001_initial'),
        ('bundles', '0001_initial'),
    ]

    operations = [
        # The tables stay where the previous release made them (db_table is kept):
        # only Django's idea of which app owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='bundleentry',
                    name='face',
                ),
                migrations.DeleteModel(
                    name='BundleExport',
                ),
                migrations.RemoveField(
                    model_name='bundleimport',
                    name='index_build',
                ),
                migrations.DeleteModel(
                    name='BundleLedgerEntry',
                ),
                migrations.RemoveField(
                    model_name='scenesuggestion',
                    name='scan',
                ),
                migrations.DeleteModel(
                    name='BundleEntry',
                ),
                migrations.DeleteModel(
                    name='BundleImport',
                ),
                migrations.DeleteModel(
                    name='SceneScan',
                ),
                migrations.DeleteModel(
                    name='SceneSuggestion',
                ),
            ],
        ),
    ]

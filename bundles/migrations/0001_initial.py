"""The bundle models move here from recognition, tables and rows untouched."""

import django.db.models.deletion
from django.db import migrations, models


def content_types_follow(apps, schema_editor):
    """Admin permissions and log entries keep pointing at the moved models."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="recognition", model__in=['bundleexport', 'bundleledgerentry', 'bundleentry', 'bundleimport']).update(
        app_label="bundles"
    )


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('recognition', '0003_bundles'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        # The tables stay where the previous release made them (db_table is kept):
        # only Django's idea of which app owns the models changes.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='BundleExport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('profile', models.CharField(max_length=50)),
                        ('kind', models.CharField(choices=[('full', 'Full gallery'), ('delta', 'Changes since a base version')], default='full', max_length=10)),
                        ('version', models.CharField(blank=True, db_index=True, max_length=40)),
                        ('base_version', models.CharField(blank=True, max_length=40)),
                        ('status', models.CharField(choices=[('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='running', max_length=10)),
                        ('path', models.CharField(blank=True, max_length=1000)),
                        ('sha256', models.CharField(blank=True, max_length=64)),
                        ('counts', models.JSONField(blank=True, default=dict)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'recognition_bundleexport',
                        'ordering': ['-pk'],
                    },
                ),
                migrations.CreateModel(
                    name='BundleLedgerEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('performer', 'Performer'), ('face', 'Face')], max_length=10)),
                        ('key', models.CharField(max_length=40)),
                        ('profile', models.CharField(blank=True, help_text='Faces only.', max_length=50)),
                        ('digest', models.CharField(max_length=64)),
                        ('changed_in', models.BigIntegerField()),
                        ('deleted', models.BooleanField(default=False)),
                        ('merged_into', models.CharField(blank=True, max_length=40)),
                    ],
                    options={
                        'db_table': 'recognition_bundleledgerentry',
                        'indexes': [models.Index(fields=['kind', 'profile', 'changed_in'], name='recognition_kind_6170ca_idx')],
                        'constraints': [models.UniqueConstraint(fields=('kind', 'key'), name='bundle_ledger_unique_key')],
                    },
                ),
                migrations.CreateModel(
                    name='BundleEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('performer', 'Performer'), ('face', 'Face')], max_length=10)),
                        ('profile', models.CharField(blank=True, help_text='Faces only.', max_length=50)),
                        ('key', models.CharField(max_length=40)),
                        ('seen_in', models.BigIntegerField(default=0)),
                        ('face', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='recognition.face')),
                    ],
                    options={
                        'verbose_name_plural': 'bundle entries',
                        'db_table': 'recognition_bundleentry',
                        'indexes': [models.Index(fields=['kind', 'profile', 'seen_in'], name='recognition_kind_5fa4e8_idx')],
                        'constraints': [models.UniqueConstraint(fields=('kind', 'profile', 'key'), name='bundle_entry_unique_key')],
                    },
                ),
                migrations.CreateModel(
                    name='BundleImport',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('profile', models.CharField(max_length=50)),
                        ('kind', models.CharField(choices=[('full', 'Full gallery'), ('delta', 'Changes since a base version')], default='full', max_length=10)),
                        ('version', models.CharField(blank=True, max_length=40)),
                        ('base_version', models.CharField(blank=True, max_length=40)),
                        ('status', models.CharField(choices=[('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='running', max_length=10)),
                        ('origin', models.CharField(blank=True, help_text='Path or URL it came from.', max_length=1000)),
                        ('sha256', models.CharField(blank=True, max_length=64)),
                        ('manifest', models.JSONField(blank=True, default=dict)),
                        ('counts', models.JSONField(blank=True, default=dict)),
                        ('error', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('index_build', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='recognition.indexbuild')),
                    ],
                    options={
                        'db_table': 'recognition_bundleimport',
                        'ordering': ['-pk'],
                        'indexes': [models.Index(fields=['profile', 'status'], name='recognition_profile_265656_idx')],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]

"""SceneScan and SceneSuggestion move here from recognition, tables and rows untouched."""

import django.db.models.deletion
from django.db import migrations, models


def content_types_follow(apps, schema_editor):
    """Admin permissions and log entries keep pointing at the moved models."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="recognition", model__in=['scenescan', 'scenesuggestion']).update(
        app_label="stash"
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
                    name='SceneScan',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=10)),
                        ('options', models.JSONField(blank=True, default=dict, help_text='only_without_performers, only_new, max_scenes, per_page.')),
                        ('cursor', models.JSONField(blank=True, default=dict)),
                        ('total', models.PositiveIntegerField(default=0, help_text='Scenes in Stash, when last asked.')),
                        ('pages', models.PositiveIntegerField(default=0, help_text='Pages finished.')),
                        ('identified', models.PositiveIntegerField(default=0)),
                        ('skipped', models.PositiveIntegerField(default=0)),
                        ('errors', models.PositiveIntegerField(default=0)),
                        ('persons', models.PositiveIntegerField(default=0, help_text='People seen in all scenes.')),
                        ('skip_reasons', models.JSONField(blank=True, default=dict, help_text='Reason → scenes.')),
                        ('last_error', models.TextField(blank=True)),
                        ('log', models.JSONField(blank=True, default=list)),
                        ('worker', models.CharField(blank=True, max_length=200)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                    ],
                    options={
                        'db_table': 'recognition_scenescan',
                        'ordering': ['-created_at'],
                        'indexes': [models.Index(fields=['status'], name='recognition_status_3428c4_idx')],
                    },
                ),
                migrations.CreateModel(
                    name='SceneSuggestion',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('stash_scene_id', models.CharField(max_length=32, unique=True)),
                        ('result', models.JSONField(default=dict)),
                        ('persons', models.PositiveSmallIntegerField(default=0)),
                        ('origin', models.CharField(choices=[('scan', 'Library scan'), ('request', 'Asked for from the plugin or the API')], default='request', max_length=10)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('scan', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='suggestions', to='stash.scenescan')),
                    ],
                    options={
                        'db_table': 'recognition_scenesuggestion',
                        'ordering': ['-updated_at'],
                    },
                ),
            ],
        ),
        migrations.RunPython(content_types_follow, migrations.RunPython.noop),
    ]

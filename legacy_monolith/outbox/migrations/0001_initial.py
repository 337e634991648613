"""The outbox tables, then the capture triggers for the database at hand (reversed: triggers dropped).

The trigger SQL comes from ``legacy_monolith.outbox.capture``; the captured tables must exist first,
hence the dependencies on the latest migrations of the apps that own them (and of auth, whose
``auth_user`` an adjustment trigger reads).
"""

from django.db import migrations, models

from legacy_monolith.outbox.capture import create_trigger_sql, drop_trigger_sql


def install_triggers(apps, schema_editor):
    _run(schema_editor, create_trigger_sql(schema_editor.connection.vendor))


def drop_triggers(apps, schema_editor):
    _run(schema_editor, drop_trigger_sql(schema_editor.connection.vendor))


def _run(schema_editor, statements):
    # A plain cursor, without parameters: SQLite's strftime('%Y...') must not be read as placeholders.
    with schema_editor.connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("catalog", "0001_initial"),
        ("inventory", "0001_initial"),
        ("orders", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name='SyncCursor',
            fields=[
                ('name', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('txid', models.BigIntegerField(default=0)),
                ('event_id', models.BigIntegerField(default=0)),
                ('applied', models.BigIntegerField(default=0, help_text='Events applied so far')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'db_table': 'strangler_sync_cursor',
            },
        ),
        migrations.CreateModel(
            name='SyncOrigin',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('origin', models.CharField(help_text="Who is writing: 'reverse-relay', 'seed', ...", max_length=64)),
            ],
            options={
                'db_table': 'strangler_sync_origin',
            },
        ),
        migrations.CreateModel(
            name='OutboxEvent',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('txid', models.BigIntegerField(help_text='txid_current() of the writing transaction on PostgreSQL, 0 on SQLite')),
                ('table_name', models.CharField(max_length=64)),
                ('op', models.CharField(choices=[('I', 'insert'), ('U', 'update'), ('D', 'delete')], max_length=1)),
                ('row_id', models.BigIntegerField()),
                ('old_data', models.TextField(help_text='JSON object of the row before; NULL on insert', null=True)),
                ('new_data', models.TextField(help_text='JSON object of the row after; NULL on delete', null=True)),
                ('created_at', models.DateTimeField()),
            ],
            options={
                'db_table': 'strangler_outbox',
                'ordering': ['txid', 'id'],
                'indexes': [models.Index(fields=['txid', 'id'], name='strangler_outbox_txid_id')],
            },
        ),
        migrations.RunPython(install_triggers, drop_triggers),
    ]

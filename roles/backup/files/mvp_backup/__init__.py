# Copyright (c) 2026, mvp_platform infrastructure team
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mvp-backup: the backup job of the platform's database host (installed by the backup role).

Standard library only. Backups and chains are the collection's ``_retention.py`` (the file the
``mvp_platform.infra.backup_rotate`` module uses), installed beside this package. Run by systemd
services (timers) and by the backup/restore/verify playbooks. Every command takes one host-wide
lock, so two jobs never overlap.

    mvp-backup db --kind full|incremental    PostgreSQL physical backup, rotation, off-site copy
    mvp-backup files                         user-files volumes, rotation, off-site copy
    mvp-backup dump                          logical pg_dump -Fc of a managed (external) PostgreSQL
    mvp-backup redis                         Redis: BGSAVE, RDB copied out, redis-check-rdb
    mvp-backup offsite-check                 restic check --read-data-subset
    mvp-backup verify [--id ID] [--source local|offsite] [--from-host H]
                                             restore a chain into a scratch container and query it
    mvp-backup list [--json] [--source ...]  backups and their chains
    mvp-backup check-backup --id ID          checksums of one local backup and its chain
    mvp-backup prepare-restore ...           stage, verify and combine a chain (no live change)
    mvp-backup swap-volume ...               put staged data into a (stopped) volume, keep the old
    mvp-backup status                        last results per kind (JSON)

Modules, one concern each: ``common`` (errors, logging, commands, JSON), ``config``, ``lock``,
``sums`` (SHA256SUMS), ``store`` (local backup directories and chains), ``docker``,
``postgres`` (pg_basebackup), ``files``, ``dump`` (pg_dump of a managed database), ``redis``,
``offsite`` (restic), ``restore`` (prepare, swap, verify), ``metrics``, ``cli``.

Local layout (``root`` in the configuration)::

    <root>/db/<id>/backup.json       metadata (the _retention.py schema + pg/checksum details)
    <root>/db/<id>/SHA256SUMS        sha256 of every file under data/ (sha256sum format)
    <root>/db/<id>/data/             the pg_basebackup directory (backup_manifest inside)
    <root>/db/<id>/dump.pgc          optional pg_dump -Fc
    <root>/files/<id>/<volume>.tar   user files, one tar per volume
    <root>/dump/<id>/dump.pgc        logical dumps (database mode "logical": managed PostgreSQL)
    <root>/redis/<id>/dump.rdb       Redis snapshots
    <root>/restore/                  staging of restores and verifications
    <root>/.force-full               written by a restore: the next database backup is a full
"""

#!/bin/sh
# Nightly backup of the Steunkaart database (the backup service of deploy/compose.yaml): pg_dump in the custom
# format (-Fc, for pg_restore) into /backups at BACKUP_AT (HH:MM, local time of TZ), keeping BACKUP_KEEP_DAYS
# days. Connection from the libpq variables PGHOST, PGDATABASE, PGUSER and PGPASSWORD.
set -u
BACKUP_AT="${BACKUP_AT:-02:30}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
# The dumps hold personal data: readable by root only.
umask 077

echo "Reservekopie: elke nacht om ${BACKUP_AT} naar /backups, ${BACKUP_KEEP_DAYS} dagen bewaard."
while true; do
    now=$(date +%s)
    next=$(date -d "today ${BACKUP_AT}" +%s)
    [ "$next" -gt "$now" ] || next=$(date -d "tomorrow ${BACKUP_AT}" +%s)
    sleep $((next - now))

    name="/backups/steunkaart-$(date +%Y%m%d-%H%M%S).dump"
    # Written under a temporary name first: a half-written dump never looks like a backup.
    if pg_dump -Fc -f "${name}.part"; then
        mv "${name}.part" "$name"
        echo "$(date -Is) reservekopie gemaakt: $name ($(du -h "$name" | cut -f1))"
        find /backups -name 'steunkaart-*.dump' -mtime +"$BACKUP_KEEP_DAYS" -delete
    else
        rm -f "${name}.part"
        echo "$(date -Is) FOUT: de reservekopie is mislukt (zie de melding van pg_dump hierboven)." >&2
    fi
    # Never twice in the same minute, also when the dump took no time.
    sleep 60
done

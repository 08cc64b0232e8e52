// SQL behind the devices engine's storage interface. Each write is one transaction that
// also appends a 'device' change row (ref: the MAC) and an audit row.
import type { Statement } from 'better-sqlite3';
import type { Actor } from '../core/actor.js';
import type { DeviceCertificateBinding, DeviceRecord, DeviceStorage, NewDeviceRow } from '../core/devices.js';
import { AppError } from '../core/errors.js';
import { ChangeLog } from './changes.js';
import type { Db } from './db.js';

interface DeviceRow {
  id: number; mac: string; name: string | null; owner: string | null; description: string | null;
  enabled: number; bind_mac: number; created_at: number; updated_at: number; groups: string | null;
}

// Groups joined with a separator no group name can hold (control characters are refused).
const GROUP_SEPARATOR = '\u001f';
const SELECT_DEVICES = `SELECT d.*, (SELECT group_concat(group_name, char(31)) FROM
  (SELECT group_name FROM device_groups g WHERE g.device_id = d.id ORDER BY group_name)) AS groups FROM devices d`;

const toDevice = (r: DeviceRow): DeviceRecord => ({
  id: r.id, mac: r.mac, name: r.name, owner: r.owner, description: r.description,
  groups: r.groups ? r.groups.split(GROUP_SEPARATOR) : [], enabled: r.enabled === 1, bindMac: r.bind_mac === 1,
  createdAt: r.created_at, updatedAt: r.updated_at,
});

export class SqliteDeviceStore implements DeviceStorage {
  private readonly changes: ChangeLog;
  private readonly insert: Statement;
  private readonly insertGroup: Statement;
  private readonly remove: Statement;
  private readonly enable: Statement;
  private readonly bindMac: Statement;
  private readonly byMac: Statement;
  private readonly byName: Statement;
  private readonly all: Statement;
  private readonly bind: Statement;
  private readonly bindings: Statement;
  private readonly certDevice: Statement;

  constructor(private readonly db: Db) {
    this.changes = new ChangeLog(db);
    this.insert = db.prepare(`INSERT INTO devices (mac, name, owner, description, enabled, bind_mac, created_at, updated_at)
      VALUES (?, ?, ?, ?, 1, ?, ?, ?)`);
    this.insertGroup = db.prepare('INSERT OR IGNORE INTO device_groups (device_id, group_name) VALUES (?, ?)');
    this.remove = db.prepare('DELETE FROM devices WHERE id = ?');
    this.enable = db.prepare('UPDATE devices SET enabled = ?, updated_at = ? WHERE id = ?');
    this.bindMac = db.prepare('UPDATE devices SET bind_mac = ?, updated_at = ? WHERE id = ?');
    this.byMac = db.prepare(`${SELECT_DEVICES} WHERE d.mac = ?`);
    this.byName = db.prepare('SELECT mac FROM devices WHERE name = ?');
    this.all = db.prepare(`${SELECT_DEVICES} ORDER BY d.mac`);
    this.bind = db.prepare('INSERT INTO device_certificates (serial, mac, bound_at) VALUES (?, ?, ?)');
    this.bindings = db.prepare('SELECT serial, mac FROM device_certificates WHERE mac = ? ORDER BY bound_at, serial');
    this.certDevice = db.prepare('SELECT mac FROM device_certificates WHERE serial = ?');
  }

  private tx<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  insertDevice(row: NewDeviceRow, by: Actor): DeviceRecord {
    return this.tx(() => {
      if (this.byMac.get(row.mac)) throw new AppError('DEVICE_EXISTS', `a device with MAC ${row.mac} is already registered`);
      const named = row.name === null ? undefined : this.byName.get(row.name) as { mac: string } | undefined;
      if (named) throw new AppError('DEVICE_EXISTS', `the name "${row.name}" is already used by device ${named.mac}`);
      const id = Number(this.insert.run(row.mac, row.name, row.owner, row.description, row.bindMac ? 1 : 0, row.at, row.at).lastInsertRowid);
      for (const g of row.groups) this.insertGroup.run(id, g);
      this.changes.record('device', row.mac);
      this.changes.audit(by.actor, by.source, 'device.add', row.mac, {
        ...(row.name !== null ? { name: row.name } : {}), ...(row.owner !== null ? { owner: row.owner } : {}), groups: row.groups,
        ...(row.bindMac ? { bindMac: true } : {}),
      });
      return toDevice(this.byMac.get(row.mac) as DeviceRow);
    });
  }

  deleteDevice(mac: string, by: Actor): boolean {
    return this.tx(() => {
      const row = this.byMac.get(mac) as DeviceRow | undefined;
      if (!row) return false;
      this.remove.run(row.id);
      this.changes.record('device', mac);
      this.changes.audit(by.actor, by.source, 'device.remove', mac, row.name !== null ? { name: row.name } : undefined);
      return true;
    });
  }

  setDeviceEnabled(mac: string, enabled: boolean, at: number, by: Actor): void {
    this.tx(() => {
      const row = this.byMac.get(mac) as DeviceRow | undefined;
      if (!row) throw new AppError('DEVICE_NOT_FOUND', `no device with MAC ${mac}`);
      this.enable.run(enabled ? 1 : 0, at, row.id);
      this.changes.record('device', mac);
      this.changes.audit(by.actor, by.source, enabled ? 'device.enable' : 'device.disable', mac);
    });
  }

  setDeviceBindMac(mac: string, bindMac: boolean, at: number, by: Actor): void {
    this.tx(() => {
      const row = this.byMac.get(mac) as DeviceRow | undefined;
      if (!row) throw new AppError('DEVICE_NOT_FOUND', `no device with MAC ${mac}`);
      this.bindMac.run(bindMac ? 1 : 0, at, row.id);
      this.changes.record('device', mac);
      this.changes.audit(by.actor, by.source, 'device.bind-mac', mac, { bindMac });
    });
  }

  findDevice(mac: string): DeviceRecord | undefined {
    const row = this.byMac.get(mac) as DeviceRow | undefined;
    return row && toDevice(row);
  }

  listDevices(): DeviceRecord[] {
    return (this.all.all() as DeviceRow[]).map(toDevice);
  }

  bindCertificate(binding: DeviceCertificateBinding, at: number, by: Actor): void {
    this.tx(() => {
      this.bind.run(binding.serial, binding.mac, at);
      this.changes.record('device', binding.mac);
      this.changes.audit(by.actor, by.source, 'device.certificate', binding.mac, { serial: binding.serial });
    });
  }

  findCertificateDevice(serial: string): string | undefined {
    return (this.certDevice.get(serial) as { mac: string } | undefined)?.mac;
  }

  listCertificateBindings(mac: string): DeviceCertificateBinding[] {
    return this.bindings.all(mac) as DeviceCertificateBinding[];
  }
}

/** Errors that are part of the ports' contracts: every adapter, memory or AWS, throws these. */
import { Steer53Error } from '../core/errors.js';

/** Another evaluation wrote the service's state first; re-read and re-decide. */
export class StateVersionConflictError extends Steer53Error {
  readonly service: string;
  readonly expectedVersion: number;

  constructor(service: string, expectedVersion: number, options?: ErrorOptions) {
    super(`state of service "${service}" is no longer at version ${expectedVersion}: another evaluation wrote it first`, options);
    this.name = 'StateVersionConflictError';
    this.service = service;
    this.expectedVersion = expectedVersion;
  }
}

/** A record the controller should manage is not in Route 53 (renamed, deleted, or a config typo). */
export class RecordNotFoundError extends Steer53Error {
  readonly hostedZoneId: string;
  readonly dnsName: string;
  readonly recordType: string;
  readonly setIdentifiers: readonly string[];

  constructor(hostedZoneId: string, dnsName: string, recordType: string, setIdentifiers: readonly string[], options?: ErrorOptions) {
    super(
      `Route 53 zone ${hostedZoneId} has no weighted ${recordType} record ${dnsName} with SetIdentifier ${setIdentifiers.map((s) => `"${s}"`).join(', ')}: ` +
        'check the service config against the hosted zone',
      options,
    );
    this.name = 'RecordNotFoundError';
    this.hostedZoneId = hostedZoneId;
    this.dnsName = dnsName;
    this.recordType = recordType;
    this.setIdentifiers = setIdentifiers;
  }
}

/** A stored state item this steer53 cannot read: it is never decided from. `field` names the attribute at fault. */
export class CorruptStateError extends Steer53Error {
  readonly service: string;
  /** The attribute at fault, as a path into the item (`state.endpoints.a.status`). */
  readonly field: string;

  constructor(service: string, field: string, problem: string, options?: ErrorOptions) {
    super(`stored state of service "${service}" is not readable: ${field}: ${problem}`, options);
    this.name = 'CorruptStateError';
    this.service = service;
    this.field = field;
  }
}

/** A state item in a layout this steer53 does not know: written by a newer steer53 (roll forward again), or not by steer53 at all. */
export class UnsupportedStateVersionError extends CorruptStateError {
  readonly schemaVersion: unknown;
  readonly supported: number;

  constructor(service: string, schemaVersion: unknown, supported: number, options?: ErrorOptions) {
    super(
      service,
      'schemaVersion',
      `${schemaVersion === undefined ? 'missing' : JSON.stringify(schemaVersion)}; this steer53 reads layouts 1 to ${supported} (a newer steer53 may have written it: deploy that one again)`,
      options,
    );
    this.name = 'UnsupportedStateVersionError';
    this.schemaVersion = schemaVersion;
    this.supported = supported;
  }
}

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

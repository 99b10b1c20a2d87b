// mdmgen as a library: the pure core (parse, validate, plan, audit, read and write plists, sign and verify)
// without the CLI. Files are read and written by the caller, except writeOutput's atomic folder swap.
export { loadCatalog, type Catalog, type PreferenceDomain, type PreferenceKey } from './catalog/catalog.js';
export { CODES, sortDiagnostics, type Code, type Diagnostic, type Severity } from './diagnostics/diagnostic.js';
export { checkFleet, type CheckResult } from './fleet/check.js';
export type { Account, Fleet, Group, Policy, Setting, User } from './fleet/model.js';
export { fleetSchema } from './fleet/schema.js';
export { checkUsers } from './fleet/users.js';
export { Directory, readDirectory } from './directory/directory.js';
export { planBuild, type Artifact, type BuildInput, type BuildPlan, type ManifestEntry } from './compile/plan.js';
export { writeOutput, OutputError } from './compile/output.js';
export { auditFile, domainOf, type AuditContext, type Finding, type PulledFile, type UserLookup } from './audit/audit.js';
export { formatters } from './format/formatters.js';
export { findingsFormatters } from './format/findings.js';
export { readPlist, PlistError, type ReadResult } from './plist/read.js';
export { writeXmlPlist } from './plist/write-xml.js';
export { writeBinaryPlist } from './plist/write-binary.js';
export { Real, type PlistValue } from './plist/value.js';
export { readCertificates, type Certificate } from './pki/certificates.js';
export { checkIdentity, loadIdentity, type SigningIdentity } from './pki/identity.js';
export { judge, readSignedProfile, signCms, signer } from './pki/cms.js';

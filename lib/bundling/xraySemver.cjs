/**
 * What the Lambda bundles get for `require('semver')`: semver's own `gte`, and nothing else.
 *
 * The only module in the bundles that requires semver is the AWS X-Ray SDK's patcher for AWS SDK
 * v2 clients (aws-xray-sdk-core/dist/lib/patchers/aws_p.js), which calls `semver.gte` once, in
 * `captureAWS`, which steer53 never calls (its clients are SDK v3). Its require pulls all of semver,
 * 28 KB of every bundle; this module is semver's own `functions/gte.js` (9 KB with what it needs).
 * test/infra/bundles.test.ts fails if the X-Ray SDK ever calls another semver function.
 */
module.exports = { gte: require('../../node_modules/semver/functions/gte.js') };

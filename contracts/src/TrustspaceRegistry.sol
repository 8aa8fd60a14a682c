// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title The trustspace commitment registry.
/// @notice Dataset owners register commitments, policy issuers register policies with their
/// verifiers, and anyone submits a proof bundle, whose public inputs the registry derives from
/// the registered entries before the proofs are checked. Entries are never overwritten.
/// @dev The storage layout is read by `trustspace_evm` through eth_getProof; keep it in sync:
/// slot 0 `datasets`, slot 1 `policies`, slot 2 `verdicts`, every field a full word. Datasets
/// (and their verdicts) are keyed by `datasetKey(root, owner)`, so a root registered first by
/// another account (a front-runner copying the owner's transaction) does not block its owner.
contract TrustspaceRegistry {
    /// @dev BN254 scalar field modulus r.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;

    /// A dataset commitment (crates/zk `Commitment`), keyed by `datasetKey(root, owner)`.
    struct Dataset {
        bytes32 root;
        bytes32 schemaDigest;
        uint256 records;
        uint256 chunkSize;
        bytes32 metadataHash;
        /// keccak256 of the chunk roots (32-byte words, in order), which the commitment root
        /// binds through Poseidon (checked off chain by anyone against the event's roots).
        bytes32 chunkRootsHash;
        address owner;
    }

    /// A policy with its verifying keys, keyed by the verifying-key digest.
    struct Policy {
        bytes32 policyDigest;
        bytes32 vkDigest;
        bytes32 schemaDigest;
        uint256 chunkSize;
        /// Accumulator before the first chunk (0 without aggregates).
        uint256 genesis;
        address chunkVerifier;
        /// Zero for policies without aggregates.
        address finalVerifier;
        address issuer;
    }

    /// A recorded verdict: a bundle for (dataset, policy) verified on chain.
    struct Verdict {
        bool verified;
        bytes32 revealedHash;
        uint256 blockNumber;
        address submitter;
    }

    /// A Groth16 proof; `b` in EIP-197 order (imaginary part first).
    struct Proof {
        uint256[2] a;
        uint256[2][2] b;
        uint256[2] c;
    }

    /// A bundle's proofs and the public inputs the registry cannot derive.
    struct Bundle {
        /// Chunk roots, in order (must hash to the dataset's `chunkRootsHash`).
        uint256[] chunkRoots;
        /// Accumulators `acc_0..acc_n` (`acc_0` the policy's genesis); empty without aggregates.
        uint256[] accs;
        Proof[] chunkProofs;
        /// Ignored without aggregates.
        Proof finalProof;
        uint256[] revealed;
    }

    mapping(bytes32 => Dataset) public datasets;
    mapping(bytes32 => Policy) public policies;
    mapping(bytes32 => mapping(bytes32 => Verdict)) public verdicts;

    event DatasetRegistered(
        bytes32 indexed root,
        address indexed owner,
        bytes32 schemaDigest,
        uint256 records,
        uint256 chunkSize,
        bytes32 metadataHash,
        uint256[] chunkRoots
    );
    event PolicyRegistered(
        bytes32 indexed vkDigest,
        bytes32 indexed policyDigest,
        address indexed issuer,
        address chunkVerifier,
        address finalVerifier
    );
    event BundleVerified(
        bytes32 indexed root, address indexed owner, bytes32 indexed vkDigest, address submitter, uint256[] revealed
    );

    error AlreadyRegistered(bytes32 key);
    error NotRegistered(bytes32 key);
    error InvalidEntry(string reason);
    error Mismatch(string reason);
    error InputNotInField(uint256 value);
    error ProofInvalid(uint256 index);

    /// @notice The key a dataset is filed under: its root with its owner.
    function datasetKey(bytes32 root, address owner) public pure returns (bytes32) {
        return keccak256(abi.encode(root, owner));
    }

    /// @notice Registers a dataset commitment owned by the sender; reverts if the sender has
    /// registered the root already.
    function registerDataset(
        bytes32 root,
        bytes32 schemaDigest,
        uint256 records,
        uint256 chunkSize,
        bytes32 metadataHash,
        uint256[] calldata chunkRoots
    ) external {
        if (root == bytes32(0)) revert InvalidEntry("zero root");
        if (uint256(root) >= R) revert InputNotInField(uint256(root));
        bytes32 key = datasetKey(root, msg.sender);
        if (datasets[key].root != bytes32(0)) revert AlreadyRegistered(key);
        if (records == 0 || chunkSize == 0 || chunkSize & (chunkSize - 1) != 0) {
            revert InvalidEntry("records or chunk size");
        }
        if (chunkRoots.length != (records + chunkSize - 1) / chunkSize) revert InvalidEntry("chunk roots");
        for (uint256 i = 0; i < chunkRoots.length; i++) {
            if (chunkRoots[i] >= R) revert InputNotInField(chunkRoots[i]);
        }
        datasets[key] = Dataset({
            root: root,
            schemaDigest: schemaDigest,
            records: records,
            chunkSize: chunkSize,
            metadataHash: metadataHash,
            chunkRootsHash: keccak256(abi.encodePacked(chunkRoots)),
            owner: msg.sender
        });
        emit DatasetRegistered(root, msg.sender, schemaDigest, records, chunkSize, metadataHash, chunkRoots);
    }

    /// @notice Registers a policy and its verifiers; reverts if the key digest is registered.
    function registerPolicy(
        bytes32 policyDigest,
        bytes32 vkDigest,
        bytes32 schemaDigest,
        uint256 chunkSize,
        uint256 genesis,
        address chunkVerifier,
        address finalVerifier
    ) external {
        if (vkDigest == bytes32(0)) revert InvalidEntry("zero key digest");
        if (policies[vkDigest].vkDigest != bytes32(0)) revert AlreadyRegistered(vkDigest);
        if (chunkVerifier.code.length == 0) revert InvalidEntry("chunk verifier has no code");
        if (finalVerifier != address(0) && finalVerifier.code.length == 0) {
            revert InvalidEntry("final verifier has no code");
        }
        if (genesis >= R) revert InputNotInField(genesis);
        policies[vkDigest] = Policy({
            policyDigest: policyDigest,
            vkDigest: vkDigest,
            schemaDigest: schemaDigest,
            chunkSize: chunkSize,
            genesis: genesis,
            chunkVerifier: chunkVerifier,
            finalVerifier: finalVerifier,
            issuer: msg.sender
        });
        emit PolicyRegistered(vkDigest, policyDigest, msg.sender, chunkVerifier, finalVerifier);
    }

    /// @notice Verifies a bundle's proofs for a registered dataset and policy and records the
    /// verdict. Every public input except the chunk roots (checked against the registered hash),
    /// the accumulator chain and the revealed values is derived from the registry.
    function verifyBundle(bytes32 root, address owner, bytes32 vkDigest, Bundle calldata b)
        external
        returns (bool)
    {
        bytes32 key = datasetKey(root, owner);
        Dataset storage d = datasets[key];
        if (d.root == bytes32(0)) revert NotRegistered(key);
        Policy storage p = policies[vkDigest];
        if (p.vkDigest == bytes32(0)) revert NotRegistered(vkDigest);
        if (p.schemaDigest != d.schemaDigest || p.chunkSize != d.chunkSize) {
            revert Mismatch("policy and dataset differ in schema or chunk size");
        }
        uint256 n = b.chunkRoots.length;
        if (keccak256(abi.encodePacked(b.chunkRoots)) != d.chunkRootsHash) revert Mismatch("chunk roots");
        if (b.chunkProofs.length != n) revert Mismatch("chunk proof count");
        bool aggregates = p.finalVerifier != address(0);
        if (aggregates ? b.accs.length != n + 1 || b.accs[0] != p.genesis : b.accs.length != 0) {
            revert Mismatch("accumulators");
        }
        uint256 digest = uint256(p.policyDigest) % R;
        _verifyChunks(d, p.chunkVerifier, digest, b);
        if (aggregates) {
            _verifyFinal(p.finalVerifier, digest, d.records, b);
        } else if (b.revealed.length != 0) {
            revert Mismatch("revealed values without aggregates");
        }
        verdicts[key][vkDigest] = Verdict({
            verified: true,
            revealedHash: keccak256(abi.encodePacked(b.revealed)),
            blockNumber: block.number,
            submitter: msg.sender
        });
        emit BundleVerified(root, owner, vkDigest, msg.sender, b.revealed);
        return true;
    }

    /// @notice The chunk proofs' owner input for an account: crates/zk `owner_fr` of its address
    /// left-padded to 32 bytes (SHA-256 of the canonical encoding, reduced mod r). A commitment
    /// registered here must name its registering account as its owner, or its proofs fail.
    function ownerInput(address owner) public pure returns (uint256) {
        bytes32 word = bytes32(uint256(uint160(owner)));
        return uint256(sha256(abi.encodePacked(uint32(19), "trustspace.zk.owner", uint32(1), word))) % R;
    }

    function _verifyChunks(Dataset storage d, address verifier, uint256 digest, Bundle calldata b) internal view {
        bool aggregates = b.accs.length != 0;
        uint256[] memory x = new uint256[](aggregates ? 6 : 4);
        x[0] = digest;
        x[3] = ownerInput(d.owner);
        uint256 records = d.records;
        uint256 chunkSize = d.chunkSize;
        for (uint256 i = 0; i < b.chunkRoots.length; i++) {
            x[1] = b.chunkRoots[i];
            uint256 left = records - i * chunkSize;
            x[2] = left < chunkSize ? left : chunkSize;
            if (aggregates) {
                x[4] = b.accs[i];
                x[5] = b.accs[i + 1];
            }
            Proof calldata pr = b.chunkProofs[i];
            // The verifier reverts on an input >= r.
            if (!IGroth16Verifier(verifier).verifyProof(pr.a, pr.b, pr.c, x)) revert ProofInvalid(i);
        }
    }

    function _verifyFinal(address verifier, uint256 digest, uint256 records, Bundle calldata b) internal view {
        uint256 n = b.chunkRoots.length;
        uint256[] memory y = new uint256[](3 + b.revealed.length);
        y[0] = digest;
        y[1] = b.accs[n];
        y[2] = records;
        for (uint256 i = 0; i < b.revealed.length; i++) {
            y[3 + i] = b.revealed[i];
        }
        // The verifier refuses a wrong number of revealed values and values >= r.
        Proof calldata pr = b.finalProof;
        if (!IGroth16Verifier(verifier).verifyProof(pr.a, pr.b, pr.c, y)) revert ProofInvalid(n);
    }
}

// SPDX-License-Identifier: MIT OR Apache-2.0
pragma solidity 0.8.28;

/// @title A Groth16 verifier over BN254 for one verifying key.
/// @notice Rendered per key by `zkprove export-verifier`; the registry calls verifiers through this.
interface IGroth16Verifier {
    /// @notice Digest of the verifying key this contract embeds (see `trustspace_evm::vk_digest`).
    function vkDigest() external pure returns (bytes32);

    /// @notice Number of public inputs the key takes.
    function inputCount() external pure returns (uint256);

    /// @notice Checks a proof. G2 coordinates are in EIP-197 order (imaginary part first).
    /// @dev Reverts with `InputNotInField` for an input >= r and `WrongInputCount` for a wrong
    /// length; returns false for a proof that does not verify or points not on the curve.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata input
    ) external view returns (bool);
}

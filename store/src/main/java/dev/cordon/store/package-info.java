/**
 * Implementations of the store port ({@link dev.cordon.core.store.Store}). Public API: {@link
 * dev.cordon.store.Stores} only.
 */
package dev.cordon.store;

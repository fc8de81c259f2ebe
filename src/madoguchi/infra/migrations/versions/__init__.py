"""Numbered migrations: 0001_initial, 0002_…"""
